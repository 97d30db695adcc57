/** The words of the API (job kinds and statuses, document statuses, roles): one list shared with the server. */
export * from '../../../src/domain/vocabulary.ts';
