package tenant

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Account linking: POST /api/v2/users/{id}/identities (link) and
// DELETE /api/v2/users/{id}/identities/{provider}/{user_id} (unlink), contract §5 and
// REC:TestUserManager_Unlink.yaml. Both need update:users, or update:current_user_identities for the
// caller's own user (the "any of" list Auth0 declares; selfOnly narrows the second scope). Both answer
// the primary's identities array with profileData on every element. Statuses and messages not
// recorded are [I] and listed in docs/tenant.md; an inferred error has no errorCode, since Auth0's code
// for it is unknown.

var (
	// Auth0 declares 400 (not 404) among the link and unlink errors, so a missing secondary or linked
	// identity is a 400 [I]; a missing primary is the usual user 404 [I].
	errSecondaryNotFound = &apiError{Status: http.StatusBadRequest, Message: "The secondary user does not exist."}
	errLinkItself        = &apiError{Status: http.StatusBadRequest, Message: "A user cannot be linked to itself."}
	errSecondaryHasLinks = &apiError{Status: http.StatusBadRequest,
		Message: "The secondary user has linked identities of its own; unlink them before linking it."}
	errUnlinkMain = &apiError{Status: http.StatusBadRequest,
		Message: "The user's main identity cannot be unlinked; only its linked identities can."}
	errNotLinked = &apiError{Status: http.StatusBadRequest, Message: "The user has no such linked identity."}
	errLinkWith  = badRequest("operation_not_supported", "Linking with link_with (the secondary account's token) is not supported by this tenant; send provider and user_id with a token that has update:users.")
)

// connectionIDPattern is the connection_id format Auth0's link schema declares.
var connectionIDPattern = regexp.MustCompile(`^con_[A-Za-z0-9]{16}$`)

// linkBody is the link request. user_id may be a string or a number (Auth0: "string or integer";
// GitHub ids are numbers), with or without the "<provider>|" prefix.
type linkBody struct {
	Provider     *string         `json:"provider"`
	UserID       json.RawMessage `json:"user_id"`
	ConnectionID *string         `json:"connection_id"`
	LinkWith     *string         `json:"link_with"`
}

// linkIdentity is POST /api/v2/users/{id}/identities: the secondary user becomes an identity of the
// primary (store.LinkStore.LinkUser). 201 with the primary's identities.
func (t *Tenant) linkIdentity(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if err := selfOnly(p, id, "update:users"); err != nil {
		return err
	}
	var b linkBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.LinkWith != nil {
		return errLinkWith
	}
	if b.Provider == nil || *b.Provider == "" {
		return invalidBody("'Missing required property: provider' on property provider (Identity provider of the secondary user account being linked).")
	}
	userID, err := linkUserID(b.UserID)
	if err != nil {
		return err
	}
	provider := *b.Provider
	secondaryID := userID
	if !strings.HasPrefix(userID, provider+"|") {
		secondaryID = provider + "|" + userID
	}
	if b.ConnectionID != nil {
		if !connectionIDPattern.MatchString(*b.ConnectionID) {
			return invalidBody("'String does not match pattern ^con_[A-Za-z0-9]{16}$: %s' on property connection_id (connection_id of the secondary user account being linked when more than one auth0 database provider exists).", *b.ConnectionID)
		}
		conn, err := t.store.GetConnection(r.Context(), *b.ConnectionID)
		if err != nil {
			return notFoundAs(err, errNoSuchConnection)
		}
		// A secondary in another connection is not the account the request names. (A missing one is
		// left to LinkUser, which reports a missing primary first.)
		sec, err := t.store.GetUser(r.Context(), secondaryID)
		if err == nil && sec.Connection != conn.Name {
			return errSecondaryNotFound
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	primary, err := t.store.LinkUser(r.Context(), id, secondaryID, t.now().UTC().Truncate(time.Millisecond))
	switch {
	case errors.Is(err, store.ErrSecondaryNotFound):
		return errSecondaryNotFound
	case errors.Is(err, store.ErrNotFound):
		return errUserNotFound
	case errors.Is(err, store.ErrInvalidLink) && id == secondaryID:
		return errLinkItself
	case errors.Is(err, store.ErrInvalidLink):
		return errSecondaryHasLinks
	case err != nil:
		return err
	}
	t.log.InfoContext(r.Context(), "tenant: identity linked", "user_id", id, "secondary", secondaryID, "by", p.Subject)
	writeJSON(w, http.StatusCreated, userIdentities(primary, true))
	return nil
}

// linkUserID reads the link body's user_id: a non-empty string, or an integer written as its digits.
func linkUserID(raw json.RawMessage) (string, error) {
	const prop = "on property user_id (user_id of the secondary user account being linked)."
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return "", invalidBody("'Missing required property: user_id' " + prop)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", invalidBody("'String is too short (0 chars), minimum 1' " + prop)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if _, err := n.Int64(); err == nil && !strings.HasPrefix(v, "-") {
			return n.String(), nil
		}
	}
	kind := jsonKind(raw)
	if kind == "number" {
		kind = "a number that is not a non-negative integer"
	} else {
		kind = "type " + kind
	}
	return "", invalidBody("'Expected type string or integer but found %s' "+prop, kind)
}

// unlinkIdentity is DELETE /api/v2/users/{id}/identities/{provider}/{user_id}: the identity leaves the
// primary and becomes a user of its own again, "<provider>|<user_id>" (store.LinkStore.UnlinkIdentity).
// 200 with the primary's remaining identities.
func (t *Tenant) unlinkIdentity(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, provider, userID := r.PathValue("id"), r.PathValue("provider"), r.PathValue("user_id")
	if err := selfOnly(p, id, "update:users"); err != nil {
		return err
	}
	primary, restored, err := t.store.UnlinkIdentity(r.Context(), id, provider, userID, t.now().UTC().Truncate(time.Millisecond))
	switch {
	case errors.Is(err, store.ErrIdentityNotFound):
		u, gerr := t.store.GetUser(r.Context(), id)
		if gerr != nil {
			return notFoundAs(gerr, errUserNotFound)
		}
		if _, own, _ := strings.Cut(u.ID, "|"); u.Provider == provider && own == userID {
			return errUnlinkMain
		}
		return errNotLinked
	case errors.Is(err, store.ErrNotFound):
		return errUserNotFound
	case err != nil:
		return err
	}
	t.log.InfoContext(r.Context(), "tenant: identity unlinked", "user_id", id, "restored", restored.ID, "by", p.Subject)
	writeJSON(w, http.StatusOK, userIdentities(primary, true))
	return nil
}
