package tenant

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// fetchJWKS reads the tenant's published keys over HTTP.
func fetchJWKS(t *testing.T, base string) jose.JSONWebKeySet {
	t.Helper()
	res, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) == 0 {
		t.Fatal("empty JWKS")
	}
	return set
}

// verifyWithJWKS checks tok's signature with the published key named by its kid and returns claims.
func verifyWithJWKS(t *testing.T, set jose.JSONWebKeySet, tok string) (jwt.Claims, map[string]any, string) {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	kid := parsed.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in JWKS", kid)
	}
	var std jwt.Claims
	var all map[string]any
	if err := parsed.Claims(keys[0].Key, &std, &all); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return std, all, kid
}

func postToken(t *testing.T, base, contentType, body string, basic ...string) response {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	id, secret := e.tn.ServiceAccount()
	aud := e.tn.Audience()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {aud}}
	jsonBody, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "audience": aud})
	set := fetchJWKS(t, e.srv.URL)

	for name, r := range map[string]response{
		"form":  postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode()),
		"json":  postToken(t, e.srv.URL, "application/json", string(jsonBody)),
		"basic": postToken(t, e.srv.URL, "application/x-www-form-urlencoded", "grant_type=client_credentials&audience="+url.QueryEscape(aud), id, secret),
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, r, 200, "")
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var body struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				Scope       string `json:"scope"`
			}
			mustUnmarshal(t, r.body, &body)
			wantScope := strings.Join(allScopes, " ")
			if body.TokenType != "Bearer" || body.ExpiresIn != 86400 || body.Scope != wantScope {
				t.Errorf("body %s", r.body)
			}
			std, all, _ := verifyWithJWKS(t, set, body.AccessToken)
			now := e.clock.Now()
			if err := std.ValidateWithLeeway(jwt.Expected{Issuer: e.tn.Issuer(), Subject: id + "@clients", AnyAudience: jwt.Audience{aud}, Time: now}, 0); err != nil {
				t.Error(err)
			}
			if std.Expiry.Time().Sub(std.IssuedAt.Time()) != 24*time.Hour || !std.IssuedAt.Time().Equal(now.Truncate(time.Second)) {
				t.Errorf("iat %v exp %v", std.IssuedAt.Time(), std.Expiry.Time())
			}
			if all["gty"] != "client-credentials" || all["azp"] != id || all["scope"] != wantScope {
				t.Errorf("claims %v", all)
			}
			// The token works on the Management API.
			expect(t, e.do("GET", "/api/v2/users?per_page=1", body.AccessToken, nil), 200, "")
		})
	}

	unauthorized := `{"error":"access_denied","error_description":"Unauthorized"}`
	bad := form
	bad.Set("client_secret", "wrong")
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", bad.Encode()), 401, unauthorized)
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", "grant_type=client_credentials&audience="+url.QueryEscape(aud), id, "wrong"), 401, unauthorized)
	bad = url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {"x"}, "audience": {aud}}
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", bad.Encode()), 401, unauthorized)

	bad = url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {"https://elsewhere/api/"}}
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", bad.Encode()), 403,
		`{"error":"access_denied","error_description":"Service not found: https://elsewhere/api/"}`)

	// The staff app has no client_credentials grant type; a client without a grant gets Auth0's message.
	sid, ssecret := e.tn.StaffApp()
	bad = url.Values{"grant_type": {"client_credentials"}, "client_id": {sid}, "client_secret": {ssecret}, "audience": {aud}}
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", bad.Encode()), 403,
		`{"error":"unauthorized_client","error_description":"Grant type 'client_credentials' not allowed for the client."}`)
	if err := e.st.CreateClient(t.Context(), storeClient("nogrant", "nogrant-secret", "client_credentials")); err != nil {
		t.Fatal(err)
	}
	bad = url.Values{"grant_type": {"client_credentials"}, "client_id": {"nogrant"}, "client_secret": {"nogrant-secret"}, "audience": {aud}}
	expect(t, postToken(t, e.srv.URL, "application/x-www-form-urlencoded", bad.Encode()), 403,
		`{"error":"access_denied","error_description":"Client is not authorized to access \"`+aud+`\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"}`)
}

// TestClientCredentialsWithOAuth2Library drives the endpoint with x/oauth2/clientcredentials, which
// sends HTTP Basic first, as go-auth0 does.
func TestClientCredentialsWithOAuth2Library(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ServiceClientID, c.ServiceClientSecret = "svc id/with:odd", "s3cr&t+=" })
	id, secret := e.tn.ServiceAccount()
	if id != "svc id/with:odd" || secret != "s3cr&t+=" {
		t.Fatalf("fixed credentials not used: %q %q", id, secret)
	}
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.srv.URL + "/oauth/token",
		EndpointParams: url.Values{"audience": {e.tn.Audience()}}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	expect(t, e.do("GET", "/api/v2/connections", tok.AccessToken, nil), 200, "")
}

func TestSigningKeyPersists(t *testing.T) {
	e := newEnv(t)
	tok := e.admin()
	kid := fetchJWKS(t, e.srv.URL).Keys[0].KeyID
	sid, ssecret := e.tn.StaffApp()
	svcID, svcSecret := e.tn.ServiceAccount()
	e.srv.Close()
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen the same database: same key, so the old token still verifies; same clients.
	e2 := newEnvAt(t, e.path, func(c *Config) { c.StaffCallbackURLs = []string{"http://127.0.0.1:1/cb", "http://127.0.0.1:2/cb"} })
	set := fetchJWKS(t, e2.srv.URL)
	if len(set.Keys) != 1 || set.Keys[0].KeyID != kid {
		t.Fatalf("kid changed: %v vs %s", set.Keys, kid)
	}
	verifyWithJWKS(t, set, tok)
	// The issuer embeds the port, which changed; the key is what persisted. Same clients:
	if id, s := e2.tn.StaffApp(); id != sid || s != ssecret {
		t.Error("staff app changed across restart")
	}
	if id, s := e2.tn.ServiceAccount(); id != svcID || s != svcSecret {
		t.Error("service account changed across restart")
	}
	c, err := e2.st.GetClient(t.Context(), sid)
	if err != nil || strings.Join(c.Callbacks, " ") != "http://127.0.0.1:1/cb http://127.0.0.1:2/cb" {
		t.Errorf("callbacks not updated: %v %v", c.Callbacks, err)
	}
}

func storeClient(id, secret string, grantTypes ...string) store.Client {
	return store.Client{ClientID: id, ClientSecret: secret, Name: id, AppType: "non_interactive", GrantTypes: grantTypes}
}
