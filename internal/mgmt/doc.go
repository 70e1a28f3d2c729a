// Package mgmt is Userdesk's client for the Auth0 Management API v2 (users and connections), shaped
// like the hand-written go-auth0 v1 SDK but small.
//
// One Client holds one cached client-credentials token, shared by every request and refreshed only
// shortly before it expires. Every call runs under a deadline (WithTimeout, 10 s by default) unless
// the caller's context ends sooner. Errors from the API are *Error values that match the sentinels
// (ErrNotFound, ErrConflict, ...) with errors.Is; failures to obtain a token are *TokenError values.
// No error string ever contains the access token or the client secret.
package mgmt
