module tcpduckdb

go 1.19
