package tcpduckdb

import (
	"regexp"
	"strings"
)

// Error is an `Error: MESSAGE` answer of the server. The connection that received it stays
// usable (the server keeps the session; inside a transaction DuckDB may have aborted it).
type Error struct {
	// Message is the server's text after "Error: ", its \n and \r escapes turned back into
	// newlines.
	Message string
	// Kind is the prefix of Message before its first ':' ("Catalog Error", "Bad Request",
	// "Access Denied", "Transaction Aborted", ...), or "Does Not Exist" / "Already Exists"
	// for the server's `Database X Does Not Exist` family, as in the Node and Python clients.
	Kind string
	// Code is Kind in upper snake case: CATALOG_ERROR, BAD_REQUEST, ACCESS_DENIED,
	// TRANSACTION_ABORTED, STATEMENT_TIMEOUT, DOES_NOT_EXIST, ...
	Code string
}

func (e *Error) Error() string { return "tcpduckdb: " + e.Message }

var (
	existsRE  = regexp.MustCompile(`^(Database|User|Tables) .* (Does Not Exist|Already Exists)$`)
	nonCodeRE = regexp.MustCompile(`[^A-Z0-9]+`)
)

// serverError builds the *Error for an answer line's text after "Error: ".
func serverError(text string) *Error {
	msg := strings.NewReplacer(`\n`, "\n", `\r`, "\r").Replace(text)
	first := msg
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		first = msg[:i]
	}
	kind := first
	if i := strings.IndexByte(msg, ':'); i >= 0 {
		kind = msg[:i]
	}
	if m := existsRE.FindStringSubmatch(first); m != nil {
		kind = m[2]
	}
	code := strings.Trim(nonCodeRE.ReplaceAllString(strings.ToUpper(kind), "_"), "_")
	return &Error{Message: msg, Kind: kind, Code: code}
}
