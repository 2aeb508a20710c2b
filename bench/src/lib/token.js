/** A token for `userId` signed with the bench server's secret, the way an app with its own login would. */
export async function cubbyToken(secret, userId) {
  const { signTestToken } = await import('@cubby/test-utils')
  return signTestToken(secret, userId)
}
