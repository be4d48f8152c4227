//go:build unix

package tcpduckdb

import (
	"errors"
	"net"
	"syscall"
)

// socketQuiet reports whether the idle socket has nothing to read and is not closed by the
// server: a connection the server ended (Idle Timeout, shutdown) or wrote to while it sat in
// the pool must not get a request, whose answer would be that stale line. It peeks without
// waiting and without consuming (also under TLS: any record is unexpected on an idle socket).
func socketQuiet(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	quiet := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		_ = n
		quiet = (errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK))
		return true
	})
	return err == nil && quiet
}
