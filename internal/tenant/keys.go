package tenant

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// keyring holds the tenant's RS256 signing key (the newest stored one) and every stored public key,
// all of which verify tokens and appear in the JWKS, so tokens signed before a rotation stay valid.
type keyring struct {
	signer jose.Signer
	public map[string]*rsa.PublicKey // by kid
	jwks   jose.JSONWebKeySet
}

// loadKeyring reads the stored signing keys and, when there are none, generates a 2048-bit RSA key and
// stores it, so the key (and every token issued with it) survives restarts.
func loadKeyring(ctx context.Context, st store.Store, now func() time.Time) (*keyring, error) {
	keys, err := st.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("tenant: load signing keys: %w", err)
	}
	if len(keys) == 0 {
		k, err := newSigningKey(now())
		if err != nil {
			return nil, err
		}
		if err := st.AddSigningKey(ctx, k); err != nil {
			return nil, fmt.Errorf("tenant: store signing key: %w", err)
		}
		keys = []store.SigningKey{k}
	}
	kr := &keyring{public: make(map[string]*rsa.PublicKey, len(keys))}
	for i, k := range keys {
		priv, err := parsePrivateKey(k.PrivateKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("tenant: signing key %q: %w", k.KID, err)
		}
		kr.public[k.KID] = &priv.PublicKey
		kr.jwks.Keys = append(kr.jwks.Keys, jose.JSONWebKey{
			Key: &priv.PublicKey, KeyID: k.KID, Algorithm: string(jose.RS256), Use: "sig",
		})
		if i == 0 { // newest first
			kr.signer, err = jose.NewSigner(
				jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: k.KID}},
				(&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				return nil, fmt.Errorf("tenant: signer: %w", err)
			}
		}
	}
	return kr, nil
}

func newSigningKey(now time.Time) (store.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tenant: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tenant: encode signing key: %w", err)
	}
	// The kid is the RFC 7638 thumbprint: stable for the key, reveals nothing.
	tp, err := (&jose.JSONWebKey{Key: &priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tenant: key thumbprint: %w", err)
	}
	return store.SigningKey{
		KID:           base64.RawURLEncoding.EncodeToString(tp),
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		CreatedAt:     now.UTC(),
	}, nil
}

func parsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key type %T, want RSA", k)
	}
	return rk, nil
}

// sign serializes claims (a struct or map) as an RS256 JWT with the current kid.
func (k *keyring) sign(claims ...any) (string, error) {
	b := jwt.Signed(k.signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	return b.Serialize()
}

// Errors of verify, mapped to Auth0's 401 messages by the API middleware.
var (
	errTokenExpired = errors.New("token expired")
	errTokenInvalid = errors.New("token invalid")
)

// accessClaims are the claims of the access tokens the tenant issues.
type accessClaims struct {
	jwt.Claims
	Scope string `json:"scope,omitempty"`
	GTY   string `json:"gty,omitempty"`
	AZP   string `json:"azp,omitempty"`
}

// verify checks the token's RS256 signature against the tenant keys, then iss, aud (any of) and exp/iat
// at now without leeway (issuer and verifier share one clock).
func (k *keyring) verify(raw, issuer, audience string, now time.Time) (accessClaims, error) {
	var c accessClaims
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return c, errTokenInvalid
	}
	pub, ok := k.public[tok.Headers[0].KeyID]
	if !ok {
		return c, errTokenInvalid
	}
	if err := tok.Claims(pub, &c); err != nil {
		return c, errTokenInvalid
	}
	if c.Expiry == nil {
		return c, errTokenInvalid
	}
	err = c.Claims.ValidateWithLeeway(jwt.Expected{
		Issuer: issuer, AnyAudience: jwt.Audience{audience}, Time: now,
	}, 0)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return c, errTokenExpired
	case err != nil:
		return c, errTokenInvalid
	}
	return c, nil
}
