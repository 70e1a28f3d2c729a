package clientip_test

import (
	"net/http/httptest"
	"testing"

	"github.com/userdesk/userdesk/internal/clientip"
)

func TestExtractor(t *testing.T) {
	trusted, err := clientip.ParseTrusted("10.0.0.0/8, 192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		trusted bool
		remote  string
		xff     string
		want    string
	}{
		{"public peer spoofing XFF is the client", true, "203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},
		{"no proxies configured: XFF ignored", false, "10.1.2.3:5000", "198.51.100.1", "10.1.2.3"},
		{"loopback peer is not trusted unless listed", true, "127.0.0.1:5000", "198.51.100.1", "127.0.0.1"},
		{"private peer outside the list is not trusted", true, "192.168.1.5:5000", "198.51.100.1", "192.168.1.5"},
		{"trusted CIDR proxy: client from XFF", true, "10.1.2.3:5000", "198.51.100.1", "198.51.100.1"},
		{"trusted single-address proxy", true, "192.0.2.7:5000", "198.51.100.1", "198.51.100.1"},
		{"spoofed left part behind a trusted proxy is skipped", true, "10.1.2.3:5000", "6.6.6.6, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", true, "10.1.2.3:5000", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"garbage in XFF falls back to the peer", true, "10.1.2.3:5000", "not-an-ip", "10.1.2.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			r.Header.Set("X-Forwarded-For", tc.xff)
			ex := clientip.Extractor(nil)
			if tc.trusted {
				ex = clientip.Extractor(trusted)
			}
			if got := ex(r); got != tc.want {
				t.Errorf("client IP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseTrusted(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.0/8,nope"} {
		if _, err := clientip.ParseTrusted(bad); err == nil {
			t.Errorf("ParseTrusted(%q) accepted", bad)
		}
	}
	nets, err := clientip.ParseTrusted(" 2001:db8::/32 , ::1 ,")
	if err != nil || len(nets) != 2 || nets[1].String() != "::1/128" {
		t.Fatalf("ParseTrusted = %v, %v", nets, err)
	}
	if nets, err := clientip.ParseTrusted(""); err != nil || len(nets) != 0 {
		t.Fatalf("empty spec = %v, %v", nets, err)
	}
}
