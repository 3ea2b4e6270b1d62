/**
 * A query whose result stays on screen while it is fetched again: views re-run it on
 * live ticks and after re-connections, so the previous data must not flicker away.
 * Only the newest run's answer is kept when runs overlap.
 */
import type { AnyVariables, Client, CombinedError, TypedDocumentNode } from '@urql/core';

export class LiveQuery<Data, Variables extends AnyVariables> {
  data = $state.raw<Data | undefined>(undefined);
  error = $state.raw<CombinedError | undefined>(undefined);
  /** True until the first answer (data or error) arrived. */
  loading = $state(true);
  fetching = $state(false);
  private seq = 0;

  constructor(
    private readonly client: Client,
    private readonly doc: TypedDocumentNode<Data, Variables>,
  ) {}

  async run(variables: Variables): Promise<Data | undefined> {
    const seq = ++this.seq;
    this.fetching = true;
    const result = await this.client.query(this.doc, variables, { requestPolicy: 'network-only' }).toPromise();
    if (seq !== this.seq) return undefined;
    this.fetching = false;
    this.loading = false;
    this.error = result.error;
    // A failed run keeps the previous answer on screen (with the error beside it).
    if (result.error || !result.data) return undefined;
    this.data = result.data;
    return result.data;
  }

  /** Forgets the data, e.g. when the variables changed so much the old answer would mislead. */
  reset(): void {
    this.seq++;
    this.data = undefined;
    this.error = undefined;
    this.loading = true;
    this.fetching = false;
  }
}

/** Starts a subscription and returns its stop function (for `$effect` clean-up). */
export function subscribe<Data, Variables extends AnyVariables>(
  client: Client,
  doc: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  onData: (data: Data) => void,
  onError?: (error: CombinedError) => void,
): () => void {
  const sub = client.subscription(doc, variables).subscribe((result) => {
    if (result.error) onError?.(result.error);
    else if (result.data) onData(result.data);
  });
  return () => sub.unsubscribe();
}

/** A human-readable message for a failed operation. */
export function errorMessage(error: CombinedError): string {
  if (error.networkError) return `The server could not be reached (${error.networkError.message}).`;
  return error.graphQLErrors.map((e) => e.message).join('; ') || error.message;
}
