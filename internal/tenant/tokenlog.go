package tenant

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
)

// Token exchanges are logged as Auth0 does (contract §5.3): "seccft" / "feccft" for client
// credentials, "seacft" / "feacft" for authorization codes, so the number of tokens a client fetched
// can be read from /api/v2/logs. Secrets, codes and tokens never reach the log.

// tokenExchange remembers the parameters of one /oauth/token request for its log event.
type tokenExchange struct {
	t        *Tenant
	r        *http.Request
	clientID string
	grant    string
	audience string
}

// beginTokenExchange reads the request parameters without consuming the body the handler reads.
func (t *Tenant) beginTokenExchange(r *http.Request) *tokenExchange {
	ex := &tokenExchange{t: t, r: r}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return ex
	}
	clone := r.Clone(r.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	p, err := tokenParams(clone)
	if err != nil {
		return ex
	}
	ex.clientID, ex.grant, ex.audience = p.Get("client_id"), p.Get("grant_type"), p.Get("audience")
	if u, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(u); err == nil {
			ex.clientID = id
		}
	}
	return ex
}

// done writes the success or failure event of the exchange.
func (ex *tokenExchange) done(resp *tokenResponse, err error) {
	var typ string
	switch ex.grant {
	case "client_credentials":
		typ = "seccft"
		if err != nil {
			typ = "feccft"
		}
	case "authorization_code":
		typ = "seacft"
		if err != nil {
			typ = "feacft"
		}
	default:
		return
	}
	e := requestEvent(ex.r, typ)
	e.ClientID = strp(ex.clientID)
	e.ClientName = strp(ex.t.clientName(ex.r.Context(), ex.clientID))
	if ex.audience != "" {
		e.Audience = strp(ex.audience)
	}
	var oe *oauthError
	switch {
	case err == nil:
		if resp.Scope != "" {
			e.Scope = strp(resp.Scope)
		}
	case errors.As(err, &oe):
		e.Description = strp(oe.Description)
	default:
		e.Description = strp("Internal error")
	}
	ex.t.writeLog(ex.r.Context(), e)
}
