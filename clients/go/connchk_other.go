//go:build !unix

package tcpduckdb

import "net"

// socketQuiet cannot peek without waiting on this system; the pool relies on errors instead.
func socketQuiet(nc net.Conn) bool { return true }
