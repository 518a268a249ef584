import type { ApolloServer } from '@apollo/server';
import { Kind, OperationTypeNode, parse, type GraphQLFormattedError } from 'graphql';
import type { Logger } from '@popug/lib/logger';
import type { GatewayContext } from './context';
import type { TrustedDocuments } from './trusted-documents';

/** What `POST /session/refresh?then=<name>` answers beside the token: the named query's result. */
export interface FollowUpResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * The query a browser asks to run with the token a refresh mints, in the same request (a
 * page that loads then paints after one round, not two: web/src/api/start.ts). Only a
 * manifest query without variables: what the page could send to /graphql with that token
 * anyway, by id. Returns its text, or null for any other name.
 */
export function followUpQuery(trusted: Pick<TrustedDocuments, 'bodyNamed' | 'operationNames'>, name: string): string | null {
  if (!trusted.operationNames.has(name)) return null;
  const body = trusted.bodyNamed(name);
  const operations = parse(body).definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const [operation] = operations;
  if (operations.length !== 1 || !operation) return null;
  return operation.operation === OperationTypeNode.QUERY && !operation.variableDefinitions?.length ? body : null;
}

/**
 * Runs the follow-up query through Apollo, with every plugin a /graphql request meets.
 * Undefined when it could not run: the token is answered all the same (its cookie is already
 * rotated), and the page sends the query itself.
 */
export async function runFollowUp(
  apollo: ApolloServer<GatewayContext>,
  query: string,
  contextValue: () => Promise<GatewayContext>,
  logger: Logger,
): Promise<FollowUpResult | undefined> {
  try {
    const response = await apollo.executeOperation({ query }, { contextValue: await contextValue() });
    if (response.body.kind !== 'single') return undefined;
    const { data, errors } = response.body.singleResult;
    return { data, errors };
  } catch (error) {
    logger.error({ err: error }, 'the query asked with a session refresh failed');
    return undefined;
  }
}
