import type { DocumentNode } from 'graphql';

/**
 * What the gateway works out once per parsed document and operation name (a query's
 * single-fetch verdict, a subscription's plan), kept with the document so it goes when the
 * document does. A `work` that throws keeps nothing: the next request asks again.
 */
export class PerOperation<T> {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, T>>();

  constructor(private readonly work: (document: DocumentNode, operationName: string | undefined) => T) {}

  get(document: DocumentNode, operationName: string | undefined): T {
    let byName = this.byDocument.get(document);
    if (!byName) {
      byName = new Map();
      this.byDocument.set(document, byName);
    }
    const key = operationName ?? '';
    if (byName.has(key)) return byName.get(key) as T;
    const value = this.work(document, operationName);
    byName.set(key, value);
    return value;
  }
}
