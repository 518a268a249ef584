import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { IDENTITY_HEADER, REQUEST_ID_HEADER } from '@popug/lib';
import type { GatewayContext } from './context';

/** Calls one subgraph, carrying the gateway's signed statement of who is calling. */
export class SubgraphSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (!('requestId' in context)) return;
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    if (context.identity) request.http?.headers.set(IDENTITY_HEADER, context.identity);
  }
}
