import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { CONTRACT_FILE } from '../schema/operations/contract';

let contractSource: string | undefined;

/** The whole client contract, parsed. */
export function contractDocument(): DocumentNode {
  return parse(readFileSync(CONTRACT_FILE, 'utf8'));
}

/** The API schema clients see: what the gateway serves from the supergraph in `supergraphFile`. */
export async function apiSchema(supergraphFile: string): Promise<GraphQLSchema> {
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(supergraphFile, 'utf8') });
  try {
    return (await gateway.load()).schema;
  } finally {
    await gateway.stop();
  }
}

/**
 * One operation of the client contract (a query, mutation or subscription), with the fragments
 * it spreads, exactly as clients send it.
 */
export function contractOperation(name: string): string {
  contractSource ??= readFileSync(CONTRACT_FILE, 'utf8');
  const blocks = contractSource.split(/\n(?=(?:query|mutation|subscription|fragment) )/);
  const find = (kind: string, blockName: string) => {
    const found = blocks.find((block) => new RegExp(`^${kind} ${blockName}\\b`).test(block.trimStart()));
    if (!found) throw new Error(`the contract has no ${kind} ${blockName}`);
    // A block runs to the next definition: drop the comments that introduce the next one.
    return found.replace(/(\n\s*#.*)+\s*$/, '').trim();
  };
  const operation = find('(?:query|mutation|subscription)', name);
  const fragments = [...operation.matchAll(/\.\.\.(\w+)/g)].map((match) => find('fragment', match[1] ?? ''));
  return [operation, ...new Set(fragments)].join('\n\n');
}
