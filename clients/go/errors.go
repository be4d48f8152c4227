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
	// Class is the DB-API class of Kind, as in the C library (tdb_error_class_of) and the
	// Python driver (the exception's class): "ProgrammingError", "DataError",
	// "IntegrityError", "OperationalError", "InternalError", "NotSupportedError", or
	// "DatabaseError" for any other kind (docs/protocol.md, "Client libraries").
	Class string
}

// errorClasses maps a Kind to its Class; the table of clients/c/tdb_io.c.
var errorClasses = map[string]string{
	"Constraint Error":         "IntegrityError",
	"Conversion Error":         "DataError",
	"Out of Range Error":       "DataError",
	"Mismatch Type Error":      "DataError",
	"Type Error":               "DataError",
	"Parser Error":             "ProgrammingError",
	"Syntax Error":             "ProgrammingError",
	"Catalog Error":            "ProgrammingError",
	"Binder Error":             "ProgrammingError",
	"Invalid Input Error":      "ProgrammingError",
	"Invalid Type Error":       "ProgrammingError",
	"Bad Request":              "ProgrammingError",
	"Access Denied":            "ProgrammingError",
	"Dependency Error":         "ProgrammingError",
	"Permission Error":         "ProgrammingError",
	"Sequence Error":           "ProgrammingError",
	"Does Not Exist":           "ProgrammingError",
	"Already Exists":           "ProgrammingError",
	"Not implemented Error":    "NotSupportedError",
	"Not Implemented Error":    "NotSupportedError",
	"Unauthorized":             "OperationalError",
	"TLS required":             "OperationalError",
	"TransactionContext Error": "OperationalError",
	"Transaction Error":        "OperationalError",
	"Transaction Aborted":      "OperationalError",
	"Request Too Large":        "OperationalError",
	"Too Many Connections":     "OperationalError",
	"Idle Timeout":             "OperationalError",
	"Server Shutting Down":     "OperationalError",
	"Server Busy":              "OperationalError",
	"Canceled":                 "OperationalError",
	"Statement Timeout":        "OperationalError",
	"Out of Memory Error":      "OperationalError",
	"IO Error":                 "OperationalError",
	"Interrupt Error":          "OperationalError",
	"Connection Error":         "OperationalError",
	"HTTP Error":               "OperationalError",
	"Serialization Error":      "OperationalError",
	"Internal Error":           "InternalError",
	"INTERNAL Error":           "InternalError",
	"Fatal Error":              "InternalError",
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
	class, ok := errorClasses[kind]
	if !ok {
		class = "DatabaseError"
	}
	return &Error{Message: msg, Kind: kind, Code: code, Class: class}
}
