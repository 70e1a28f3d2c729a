// Package clientip resolves a request's client IP address, believing X-Forwarded-For only when the
// connection comes from a configured trusted proxy (ASVS 5 15.3.4): a client that talks to Userdesk
// directly cannot choose the address the audit trail and the session list record.
package clientip

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// ParseTrusted reads a comma-separated list of CIDRs or single addresses ("10.0.0.0/8, 192.0.2.7",
// the USERDESK_TRUSTED_PROXIES format). A single address trusts exactly that host. Empty trusts none.
func ParseTrusted(spec string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR", part)
			}
			part = netip.PrefixFrom(addr, addr.BitLen()).String()
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// Extractor returns the resolver for echo's IPExtractor and for sessionstore.GorillaConfig.ClientIP
// (both are func(*http.Request) string). With no trusted ranges it returns the peer address and
// ignores every forwarding header. Otherwise it walks X-Forwarded-For from the right and returns the
// first address that is not a trusted proxy, starting with the peer itself: a peer outside the
// ranges is the client, whatever the header says. Loopback, link-local and private addresses are
// trusted only when a listed range covers them (echo trusts them by default; Userdesk does not).
func Extractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
