package staffauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
)

const (
	proxyIssuer   = "https://team.cloudflareaccess.example"
	proxyAudience = "aud-tag-123"
	proxyHeader   = "Cf-Access-Jwt-Assertion"
)

type proxyKeys struct {
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	foreign *rsa.PrivateKey
}

func newProxyHarness(t *testing.T) (*echo.Echo, proxyKeys) {
	e, k, _ := newAuditedProxyHarness(t)
	return e, k
}

func newAuditedProxyHarness(t *testing.T) (*echo.Echo, proxyKeys, *audit.MemoryStore) {
	t.Helper()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fk, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &rk.PublicKey, KeyID: "rsa1", Algorithm: "RS256", Use: "sig"},
			{Key: &ek.PublicKey, KeyID: "ec1", Algorithm: "ES256", Use: "sig"},
		}})
	}))
	t.Cleanup(jwks.Close)
	trail := audit.NewMemory()
	p, err := NewProxy(t.Context(), ProxyConfig{
		Header: proxyHeader, JWKSURL: jwks.URL, Issuer: proxyIssuer, Audience: proxyAudience,
		Roles: authz.Mapping{Claim: "groups", Groups: map[string]authz.Role{"support": authz.Agent}},
		Audit: auditlog.New(trail, nil).Record,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	e.GET("/users", func(c echo.Context) error {
		s, _ := reqctx.StaffFrom(c.Request().Context())
		return c.String(200, s.Email+" "+string(s.Role))
	}, p.RequireStaff)
	return e, proxyKeys{rsa: rk, ec: ek, foreign: fk}, trail
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func goodClaims() map[string]any {
	now := time.Now()
	return map[string]any{"iss": proxyIssuer, "aud": proxyAudience, "sub": "u-1", "email": "ada@corp.example",
		"groups": []string{"support"}, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
}

func TestProxyModeTrustsOnlyVerifiedAssertions(t *testing.T) {
	e, k := newProxyHarness(t)
	with := func(mut func(map[string]any)) map[string]any {
		c := goodClaims()
		if mut != nil {
			mut(c)
		}
		return c
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(must(json.Marshal(goodClaims()))) + "."
	cases := []struct {
		name    string
		headers map[string]string
		status  int
		body    string
	}{
		{"RS256", map[string]string{proxyHeader: sign(t, jose.RS256, k.rsa, "rsa1", goodClaims())}, 200, "ada@corp.example agent"},
		{"ES256", map[string]string{proxyHeader: sign(t, jose.ES256, k.ec, "ec1", goodClaims())}, 200, "ada@corp.example agent"},
		{"no assertion", nil, 401, ""},
		{"bare identity headers", map[string]string{"X-Email": "ada@corp.example", "X-User": "ada", "X-Forwarded-Email": "ada@corp.example"}, 401, ""},
		{"wrong audience", map[string]string{proxyHeader: sign(t, jose.RS256, k.rsa, "rsa1", with(func(c map[string]any) { c["aud"] = "other" }))}, 401, ""},
		{"wrong issuer", map[string]string{proxyHeader: sign(t, jose.RS256, k.rsa, "rsa1", with(func(c map[string]any) { c["iss"] = "https://evil.example" }))}, 401, ""},
		{"expired", map[string]string{proxyHeader: sign(t, jose.RS256, k.rsa, "rsa1", with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))}, 401, ""},
		{"foreign key", map[string]string{proxyHeader: sign(t, jose.RS256, k.foreign, "rsa1", goodClaims())}, 401, ""},
		{"alg none", map[string]string{proxyHeader: none}, 401, ""},
		{"garbage", map[string]string{proxyHeader: "not.a.jwt"}, 401, ""},
		{"no role", map[string]string{proxyHeader: sign(t, jose.RS256, k.rsa, "rsa1", with(func(c map[string]any) { c["groups"] = []string{"marketing"} }))}, 403, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/users", nil)
			for h, v := range tc.headers {
				req.Header.Set(h, v)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body.String())
			}
			if tc.body != "" && rec.Body.String() != tc.body {
				t.Fatalf("body %q, want %q", rec.Body.String(), tc.body)
			}
		})
	}
}

func TestNewProxyReportsEveryProblem(t *testing.T) {
	_, err := NewProxy(t.Context(), ProxyConfig{})
	if err == nil {
		t.Fatal("empty proxy config accepted")
	}
	for _, want := range []string{"header", "JWKS", "issuer", "audience"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
