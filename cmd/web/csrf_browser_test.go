package main

import (
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// evilPage is a page on another origin that submits a form to the signed-in app as soon as it loads.
var evilPage = template.Must(template.New("evil").Parse(`<!DOCTYPE html>
<html><body>
<form id="f" method="post" action="{{.Action}}">
<input name="user_metadata" value="{&#34;pwned&#34;: true}">
<input name="app_metadata" value="{}">
</form>
<script>document.getElementById("f").submit()</script>
</body></html>`))

// startEvil serves evilPage on host (port 0), for example 127.0.0.2 (another site than the app on
// 127.0.0.1) or 127.0.0.1 (the same site, another origin: a different port).
func startEvil(t *testing.T, host, action string) string {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = evilPage.Execute(w, struct{ Action string }{action})
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// TestBrowserCrossOriginFormPostRefused (security.md §6 #11): Chromium, signed in to Userdesk, opens
// a page on another site (127.0.0.2) and on another origin of the same site (127.0.0.1, other port);
// each auto-submits a metadata edit to Userdesk. Userdesk answers with its 403 page and the tenant
// receives no write.
func TestBrowserCrossOriginFormPostRefused(t *testing.T) {
	ctx := browserContext(t)
	app, rec := startTestApp(t, nil)
	cust := firstCustomer(t, app)
	action := app.URL + "/users/" + url.PathEscape(cust.UserID) + "/metadata"

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	fail := func(name string, err error) {
		t.Helper()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\nat %s\n%s", name, err, loc, page)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(css("#signin-link")),
		chromedp.Click(css("#signin-link")), chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#email"), app.DemoEmail),
		chromedp.SendKeys(css("#password"), demoPassword),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#q")),
	); err != nil {
		fail("sign in", err)
	}

	for _, tc := range []struct{ name, host string }{
		{"cross-site page on 127.0.0.2", "127.0.0.2"},
		{"same-site page on another port", "127.0.0.1"},
	} {
		evil := startEvil(t, tc.host, action)
		if err := chromedp.Do(ctx, chromedp.Navigate(evil)); err != nil {
			fail(tc.name, err)
		}
		// The form submits itself: wait until the browser has left the evil page for a Userdesk page.
		if err := chromedp.Do(ctx, chromedp.WaitVisible(css("header.site"))); err != nil {
			fail(tc.name, err)
		}
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			fail(tc.name, err)
		}
		main, err := chromedp.Run(ctx, chromedp.Text(css("main")))
		if err != nil {
			fail(tc.name, err)
		}
		if loc != action || !strings.Contains(main, "came from another site") || !strings.Contains(main, "HTTP 403") {
			t.Errorf("%s: landed on %s showing %q, want Userdesk's 403 cross-site page", tc.name, loc, main)
		}
	}

	if n := rec.count("PATCH "); n != 0 {
		t.Errorf("the tenant received %d PATCH requests", n)
	}
	id, secret := app.tenant.ServiceAccount()
	c, err := mgmt.New(app.TenantURL, id, secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Users.Get(t.Context(), cust.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if _, pwned := got.UserMetadata["pwned"]; pwned {
		t.Errorf("the forged edit reached the tenant: %v", got.UserMetadata)
	}
	// The browser is still signed in: the refusal did not depend on the cookie being absent.
	if err := chromedp.Do(ctx, chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css("#q"))); err != nil {
		fail("still signed in", fmt.Errorf("after the forged posts: %w", err))
	}
}
