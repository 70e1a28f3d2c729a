package tenant

import "net/http"

// handleJWKS is GET /.well-known/jwks.json: every stored public key, so tokens signed with an older
// key keep verifying.
func (t *Tenant) handleJWKS(w http.ResponseWriter, r *http.Request) {
	writeTokenJSON(w, http.StatusOK, t.keys.jwks)
}

// handleDiscovery is GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0 §3).
func (t *Tenant) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	writeTokenJSON(w, http.StatusOK, map[string]any{
		"issuer":                                t.issuer,
		"authorization_endpoint":                t.baseURL + "/authorize",
		"token_endpoint":                        t.baseURL + "/oauth/token",
		"jwks_uri":                              t.baseURL + "/.well-known/jwks.json",
		"userinfo_endpoint":                     t.baseURL + "/userinfo",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"claims_supported": []string{"aud", "email", "email_verified", "exp", "iat", "iss", "name",
			"nickname", "nonce", "picture", "sub", RolesClaim},
	})
}
