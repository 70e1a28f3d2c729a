// Package tenant is the embedded Auth0-compatible tenant: an HTTP server that speaks the subset of
// Auth0's Authentication API (/oauth/token with client_credentials and authorization_code + PKCE,
// /authorize with a sign-in page, JWKS and OIDC discovery) and Management API v2 (users, users-by-email,
// connections, the support-console endpoints, organizations) that Userdesk uses, so the dashboard can run against it exactly as against a real
// tenant, over HTTP.
//
// Wire formats follow /work/shared/docs/auth0-contract.md and the recorded Auth0 traffic in
// testdata/auth0-recordings, a copy of shared/fixtures/auth0-recordings (replayed by replay_test.go). Storage is behind store.Store; the
// package never speaks SQL. Decisions the contract marks as not established are documented where they
// are made (search for "[I]").
package tenant
