package tcpduckdb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"time"

	"tcpduckdb"
)

// Compiled (not run) by go test: the README's example.
func Example() {
	db, err := sql.Open("tcpduckdb", "tcpduckdb://analyst:securepassword@127.0.0.1:4000/analytics?sslmode=verify-full&sslrootcert=ca.crt")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO users VALUES (?, ?)", 3, "Jim"); err != nil {
		var se *tcpduckdb.Error
		if errors.As(err, &se) && se.Code == "CONSTRAINT_ERROR" {
			log.Print("already there: ", se.Message)
		}
		tx.Rollback()
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	rows, err := db.QueryContext(ctx, "SELECT id, name FROM users WHERE id > ?", 0)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			log.Fatal(err)
		}
		fmt.Println(id, name)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
}

// Server commands go through sql.Conn.Raw.
func ExampleCommander() {
	db, _ := sql.Open("tcpduckdb", "tcpduckdb://duck:duck@127.0.0.1:4000")
	conn, err := db.Conn(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		out, err := dc.(tcpduckdb.Commander).Command(context.Background(), "list databases")
		fmt.Println(out)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}
