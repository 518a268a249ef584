import { join } from 'node:path';

/** The client contract: the operations outside clients and the dashboards rely on. */
export const CONTRACT_FILE = join(__dirname, 'contract.graphql');
