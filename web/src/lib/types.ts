/** The API's response shapes: one definition shared with the CLI (src/contract.ts). */
export * from '../../../src/contract.ts';
