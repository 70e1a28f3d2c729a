package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startProcess runs the tenant as a separate process (this test binary re-executed, see TestMain)
// on db and returns its banner and the process.
func startProcess(t *testing.T, db string) (banner, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1",
		"USERDESK_TENANT_ADDR=127.0.0.1:0", "USERDESK_TENANT_DB="+db, "USERDESK_TENANT_SEED=off",
		"USERDESK_TENANT_CLIENT_ID="+testClientID, "USERDESK_TENANT_CLIENT_SECRET="+testClientSecret,
		"USERDESK_DEMO_PASSWORD=Demo-Passw0rd-1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return readBanner(t, out), cmd
}

// token fetches a Management API token with the fixed credentials.
func token(t *testing.T, base string) string {
	t.Helper()
	res, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {testClientID}, "client_secret": {testClientSecret}, "audience": {base + "/api/v2/"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	return body.AccessToken
}

func call(ctx context.Context, method, u, tok, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// TestAcknowledgedWritesSurviveKill drives concurrent POSTs and PATCHes at a tenant process, kills it
// with SIGKILL mid-load, restarts it on the same file and checks that every write answered 2xx is
// there: each created user exists, and each user's counter is the last acknowledged value (or the one
// in flight at the kill, which may have committed without its answer arriving).
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tenant.db")
	b, cmd := startProcess(t, db)
	tok := token(t, b.base)

	type userState struct {
		id        string
		acked     int // last counter value answered 200
		attempted int // last counter value sent
	}
	const workers = 4
	var (
		mu    sync.Mutex
		users []*userState
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				// Create a user (bcrypt cost 10: the slow write) in the staff connection, which exists
				// without the seed, then bump its counter a few times.
				st, body, err := call(ctx, "POST", b.base+"/api/v2/users", tok, fmt.Sprintf(
					`{"connection":"Userdesk-Staff","email":"w%d-%d@example.com","password":"Durable-Passw0rd","user_metadata":{"n":0}}`, w, i))
				if err != nil {
					return // the process is gone
				}
				if st != 201 {
					t.Errorf("POST: %d %s", st, body)
					return
				}
				var u struct {
					UserID string `json:"user_id"`
				}
				_ = json.Unmarshal(body, &u)
				us := &userState{id: u.UserID}
				mu.Lock()
				users = append(users, us)
				mu.Unlock()
				for n := 1; n <= 5; n++ {
					mu.Lock()
					us.attempted = n
					mu.Unlock()
					st, body, err := call(ctx, "PATCH", b.base+"/api/v2/users/"+url.PathEscape(us.id), tok,
						fmt.Sprintf(`{"user_metadata":{"n":%d}}`, n))
					if err != nil {
						return
					}
					if st != 200 {
						t.Errorf("PATCH: %d %s", st, body)
						return
					}
					mu.Lock()
					us.acked = n
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once a fair number of writes were acknowledged (or after 3 s).
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(users)
		mu.Unlock()
		if n >= 3*workers {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no checkpoint
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()
	cancel()

	mu.Lock()
	defer mu.Unlock()
	if len(users) < workers {
		t.Fatalf("only %d users acknowledged before the kill", len(users))
	}
	b2, _ := startProcess(t, db)
	tok2 := token(t, b2.base)
	acked := 0
	for _, us := range users {
		st, body, err := call(context.Background(), "GET", b2.base+"/api/v2/users/"+url.PathEscape(us.id), tok2, "")
		if err != nil || st != 200 {
			t.Errorf("user %s acknowledged with 201 is missing after restart: %d %s %v", us.id, st, body, err)
			continue
		}
		var u struct {
			UserMetadata struct{ N int } `json:"user_metadata"`
		}
		_ = json.Unmarshal(body, &u)
		if got := u.UserMetadata.N; got != us.acked && got != us.attempted {
			t.Errorf("user %s: counter %d after restart, acknowledged %d (in flight %d)", us.id, got, us.acked, us.attempted)
		}
		acked += 1 + us.acked
	}
	t.Logf("%d acknowledged writes (%d users) checked after kill -9 and restart", acked, len(users))
}
