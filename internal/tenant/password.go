package tenant

import (
	"github.com/userdesk/userdesk/internal/pwpolicy"
	"github.com/userdesk/userdesk/internal/tenant/store"
)

// policyOf is the connection's password policy (contract §3.4), shared with the dashboard's own
// pre-check through package pwpolicy.
func policyOf(c store.Connection) pwpolicy.Policy { return pwpolicy.FromOptions(c.Options) }
