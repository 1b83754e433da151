// The one way the client talks to the server: GraphQL over same-origin POST (the session cookie
// rides along) and, for live updates, graphql-transport-ws on the same path.
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from '../gql/graphql';

/** A refusal from the server, with its stable code and, for validation, the input field. */
export class ApiError extends Error {
  readonly code: string;
  readonly field?: string;
  readonly reason?: string;
  readonly currentVersion?: number;
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = typeof extensions.code === 'string' ? extensions.code : 'INTERNAL';
    this.field = typeof extensions.field === 'string' ? extensions.field : undefined;
    this.reason = typeof extensions.reason === 'string' ? extensions.reason : undefined;
    this.currentVersion = typeof extensions.currentVersion === 'number' ? extensions.currentVersion : undefined;
  }
}

/** The server could not be reached at all (offline, or the connection dropped). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('the server could not be reached');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

type GraphQLResponse<T> = {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

/** Sends one operation; resolves to its data or throws `ApiError` / `NetworkError`. */
export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
    });
  } catch (cause) {
    throw new NetworkError(cause);
  }
  let body: GraphQLResponse<TResult>;
  try {
    body = await response.json();
  } catch (cause) {
    if (response.status >= 500 || response.status === 0) throw new NetworkError(cause);
    throw new ApiError(`the server answered ${response.status}`);
  }
  if (body.errors?.length) {
    const [first] = body.errors;
    throw new ApiError(first.message, first.extensions);
  }
  if (body.data == null) throw new ApiError('the server sent no data');
  return body.data;
}

let ws: Client | null = null;

/** The WebSocket client, opened on first use and closed at sign-out. */
export function subscriptions(): Client {
  if (!ws) {
    const url = new URL('/graphql', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = createClient({ url: url.href, lazy: true, retryAttempts: Infinity, shouldRetry: () => true });
  }
  return ws;
}

/** Subscribes to one operation; returns the function that ends it. */
export function subscribe<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  next: (data: TResult) => void,
): () => void {
  return subscriptions().subscribe<TResult>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    {
      next: (value) => value.data && next(value.data as TResult),
      error: () => {},
      complete: () => {},
    },
  );
}

/** Closes the WebSocket (sign-out: its sign-in ends with it). */
export function closeSubscriptions(): void {
  ws?.dispose();
  ws = null;
}

/** A fresh idempotency key for one change. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** Today in the caseworker's own calendar (YYYY-MM-DD), the default day of an entry. */
export function today(): string {
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 10);
}
