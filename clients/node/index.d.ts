// Type declarations for tcpduckdb (Node.js driver for TCP-DuckDB).

/** A value in a result row (see README.md for the type mapping). */
export type Value =
  | null
  | boolean
  | number // TINYINT..INTEGER, UTINYINT..UINTEGER, FLOAT, DOUBLE (NaN/Infinity included)
  | bigint // BIGINT, UBIGINT, HUGEINT, UHUGEINT, BIGNUM
  | string // DECIMAL, VARCHAR, ENUM, UUID, DATE, TIME, TIMETZ, INTERVAL, BIT, infinity timestamps
  | Date // TIMESTAMP (read as UTC), TIMESTAMP WITH TIME ZONE, TIMESTAMP_S/_MS/_NS
  | Buffer // BLOB
  | Value[] // LIST, ARRAY
  | { [key: string]: Value }; // STRUCT, MAP (keys as text)

/** A parameter: bound by the server to a prepared statement, never pasted into the SQL. */
export type Param = null | undefined | boolean | number | bigint | string | Date | Buffer | Uint8Array;

export interface Column {
  name: string;
  /** DuckDB's type name: 'INTEGER', 'DECIMAL(18,3)', 'VARCHAR[]', 'STRUCT("a" INTEGER)', ... */
  type: string;
}

export interface QueryOptions {
  /** 'object' (default): rows keyed by column name; 'array': rows as arrays in column order. */
  rowMode?: 'object' | 'array';
}

export interface QueryResult<R = Record<string, Value>> {
  columns: Column[];
  rows: R[];
  /** Rows as arrays (every column, also when names repeat). */
  rowsArray: Value[][];
  /** Rows returned, or rows changed by INSERT/UPDATE/DELETE; null for other statements. */
  rowCount: number | null;
}

export interface RowStream<R = Record<string, Value>> extends AsyncIterable<R> {
  /** Set once the answer has begun (after the first next()). */
  columns: Column[] | undefined;
}

export interface ConnectOptions {
  /** A tcpduckdb://user:password@host:port/database?sslmode=... URI; the other options win
   * over it, and it wins over the TCPDUCKDB_* environment variables. */
  connectionString?: string;
  host?: string; // default '127.0.0.1'
  port?: number; // default 4000
  user?: string; // default 'duck'
  password?: string; // default 'duck'
  database?: string; // connect to this database after login
  /** Milliseconds for the TCP connect with the TLS negotiation, and for every wait for the
   * server; 0 (default): none. */
  timeout?: number;
  /** TLS by `starttls` (docs/protocol.md): 'disable' (plaintext); 'prefer' (default: TLS when
   * the server offers it, else plaintext; no certificate check); 'require' (TLS or fail; no
   * certificate check); 'verify-ca' (the chain must verify against sslrootcert); 'verify-full'
   * (verify-ca, and `host`, a name or an IP address, must match the certificate). */
  sslmode?: SslMode;
  /** CA certificate(s) trusted by verify-ca / verify-full: a PEM file name, or the PEM text in a
   * Buffer; unset: Node's default CAs. */
  sslrootcert?: string | Buffer;
  /** Client certificate (PEM file name or Buffer), for servers that ask for one (TLSCAFile). */
  sslcert?: string | Buffer;
  /** Key of sslcert (PEM file name or Buffer); unset: the key is in sslcert. */
  sslkey?: string | Buffer;
}

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export class TcpDuckDBError extends Error {
  /** Derived from the server's prefix: 'CATALOG_ERROR', 'PARSER_ERROR', 'CONSTRAINT_ERROR',
   * 'UNAUTHORIZED', 'ACCESS_DENIED', 'BAD_REQUEST', 'TRANSACTION_ABORTED', ...; client side:
   * 'CONNECTION', 'TIMEOUT', 'CLOSED', 'PROTOCOL', 'INVALID_PARAMETER', 'TLS' (TLS could not
   * be set up as sslmode demands), 'TLS_VERIFY' (the server's certificate was refused: the
   * message names the reason, e.g. 'certificate has expired', 'host name mismatch',
   * 'unknown CA'); a plain client refused by a TLS-only server gets 'TLS_REQUIRED'. */
  code: string;
  /** The server's prefix as sent, e.g. 'Catalog Error'; undefined for client-side errors. */
  kind: string | undefined;
  /** The DB-API class of a server error's kind, as in the C, Python and Go clients:
   * 'ProgrammingError', 'DataError', 'IntegrityError', 'OperationalError', 'InternalError',
   * 'NotSupportedError', else 'DatabaseError'; undefined for client-side errors. */
  class: string | undefined;
}

export class Client {
  /** True between begin() (or a BEGIN statement) and commit()/rollback() (also one that fails). */
  readonly inTransaction: boolean;
  /** 'TLSv1.3' or 'TLSv1.2' on an encrypted connection, null on a plaintext one. */
  readonly tlsVersion: string | null;
  /** The connection's socket: a tls.TLSSocket (`encrypted` true) once TLS is on. */
  readonly socket: import('node:net').Socket;
  query<R = Record<string, Value>>(sql: string, params?: Param[], options?: QueryOptions): Promise<QueryResult<R>>;
  stream<R = Record<string, Value>>(sql: string, params?: Param[], options?: QueryOptions): RowStream<R>;
  /** A server command; resolves to null for `success`, else the answer text. */
  command(line: string): Promise<string | null>;
  begin(): Promise<null>;
  commit(): Promise<null>;
  /** Resolves to null, also outside a transaction (e.g. after a commit() that failed). */
  rollback(): Promise<null>;
  /** Commits when fn resolves, rolls back when it rejects; resolves to fn's value. */
  transaction<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  /** Cancels the running statement through a cancel request on a second connection; the
   * pending request rejects with kind 'Canceled'. With nothing running it does nothing. */
  cancel(): Promise<void>;
  close(): Promise<void>;
}

export interface ParsedType {
  name: string;
  args?: number[];
  child?: ParsedType;
  size?: number;
  fields?: [string, ParsedType][];
  key?: ParsedType;
  value?: ParsedType;
}

export function parseType(text: string): ParsedType;
export function connect(options?: ConnectOptions | string): Promise<Client>;
/** The parts of a tcpduckdb:// URI that are present (connectTimeout in milliseconds). */
export function parseUri(uri: string): Partial<ConnectOptions> & { connectTimeout?: number };

declare const _default: {
  connect: typeof connect;
  Client: typeof Client;
  TcpDuckDBError: typeof TcpDuckDBError;
  parseType: typeof parseType;
};
export default _default;
