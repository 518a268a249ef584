/** The session operations as the tests send them: the contract's five and the web app's sign-in and refresh. */
export const SIGN_IN = `mutation SignIn($email: String!, $password: String!) {
  login(email: $email, password: $password) { token expiresAt refreshToken refreshExpiresAt user { id } }
}`;
export const REFRESH = `mutation RefreshSession($refreshToken: String!) {
  refreshSession(refreshToken: $refreshToken) { token expiresAt refreshToken refreshExpiresAt user { id } }
}`;
export const ME = 'query Me { me { id } }';
export const LOGOUT = 'mutation Logout { logout }';
export const LOGOUT_EVERYWHERE = 'mutation LogoutEverywhere { logoutEverywhere }';
export const CHANGE_PASSWORD = 'mutation ChangePassword($current: String!, $new: String!) { changePassword(currentPassword: $current, newPassword: $new) }';
export const REQUEST_RESET = 'mutation RequestPasswordReset($email: String!) { requestPasswordReset(email: $email) }';
export const RESET = 'mutation ResetPassword($token: String!, $password: String!) { resetPassword(token: $token, password: $password) }';
export const SET_USER_ACTIVE = 'mutation SetUserActive($userId: ID!, $active: Boolean!) { setUserActive(userId: $userId, active: $active) { id active } }';
