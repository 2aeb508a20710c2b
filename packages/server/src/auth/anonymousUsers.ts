/**
 * The prefix of every user id `POST /v1/identities` hands out. The storage tells anonymous identities from the
 * app's own users by it alone (the data dir holds no tokens): the storage budget refuses their growing writes, and
 * pruning removes those unused for long. An `authenticate` hook or `issueToken` that names users `anon_…` makes
 * them count as anonymous too.
 */
export const ANONYMOUS_USER_PREFIX = 'anon_'

/** Whether a user id is one of the anonymous identities the server hands out. */
export const isAnonymousUser = (userId: string): boolean => userId.startsWith(ANONYMOUS_USER_PREFIX)
