package main

import (
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
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
	b := newBrowser(t)
	app, rec := startTestApp(t, nil)
	cust := firstCustomer(t, app)
	action := app.URL + "/users/" + url.PathEscape(cust.UserID) + "/metadata"
	b.signIn(app)

	for _, tc := range []struct{ name, host string }{
		{"cross-site page on 127.0.0.2", "127.0.0.2"},
		{"same-site page on another port", "127.0.0.1"},
	} {
		evil := startEvil(t, tc.host, action)
		b.step(tc.name, chromedp.Navigate(evil))
		// The form submits itself: wait until the browser has left the evil page for a Userdesk page.
		b.step(tc.name, chromedp.WaitVisible(css("header.site")))
		loc := b.get(tc.name, chromedp.Location())
		main := b.text(tc.name, "main")
		if loc != action || !strings.Contains(main, "came from another site") || !strings.Contains(main, "HTTP 403") {
			t.Errorf("%s: landed on %s showing %q, want Userdesk's 403 cross-site page", tc.name, loc, main)
		}
	}

	if n := rec.count("PATCH "); n != 0 {
		t.Errorf("the tenant received %d PATCH requests", n)
	}
	got, err := mgmtFor(t, app).Users.Get(t.Context(), cust.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if _, pwned := got.UserMetadata["pwned"]; pwned {
		t.Errorf("the forged edit reached the tenant: %v", got.UserMetadata)
	}
	// The browser is still signed in: the refusal did not depend on the cookie being absent.
	b.step("still signed in after the forged posts", chromedp.Navigate(app.URL+"/users"), chromedp.WaitVisible(css("#q")))
}
