package users

// logTypes maps Auth0's log event type codes to a sentence for staff. Source: Auth0's "Log Event
// Type Codes" reference (https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes); the
// codes the embedded tenant writes (s, f, fp, fu, limit_wc, sapi, scp, sv, fn) are all here.
var logTypes = map[string]string{
	"s":                        "Successful login",
	"f":                        "Failed login",
	"fp":                       "Wrong password",
	"fu":                       "Unknown user",
	"fc":                       "Failed connector login",
	"fco":                      "Origin not allowed",
	"fcoa":                     "Failed cross-origin authentication",
	"scoa":                     "Successful cross-origin authentication",
	"limit_wc":                 "Blocked after too many failed logins",
	"limit_mu":                 "IP address blocked after failed logins to many accounts",
	"limit_sul":                "Blocked after too many logins in a minute",
	"ublkdu":                   "Brute-force block released",
	"sapi":                     "Management API write",
	"fapi":                     "Failed Management API write",
	"mgmt_api_read":            "Management API read",
	"api_limit":                "Management API rate limit reached",
	"scp":                      "Password changed",
	"fcp":                      "Password change failed",
	"scpr":                     "Password change requested",
	"fcpr":                     "Password change request failed",
	"scpn":                     "Password change notification sent",
	"fcpn":                     "Password change notification failed",
	"pwd_leak":                 "Breached password detected",
	"sv":                       "Email verified",
	"fv":                       "Email verification failed",
	"svr":                      "Verification email requested",
	"fvr":                      "Verification email request failed",
	"fn":                       "Email notification failed",
	"ss":                       "Successful signup",
	"fs":                       "Failed signup",
	"sdu":                      "User deleted",
	"fdu":                      "User deletion failed",
	"du":                       "User deleted",
	"slo":                      "Logged out",
	"flo":                      "Logout failed",
	"ssa":                      "Silent authentication succeeded",
	"fsa":                      "Silent authentication failed",
	"seacft":                   "Authorization code exchanged for a token",
	"feacft":                   "Authorization code exchange failed",
	"seccft":                   "Client credentials exchanged for a token",
	"feccft":                   "Client credentials exchange failed",
	"sepft":                    "Password exchanged for a token",
	"fepft":                    "Password exchange failed",
	"sertft":                   "Refresh token exchanged for a token",
	"fertft":                   "Refresh token exchange failed",
	"srrt":                     "Refresh token revoked",
	"cls":                      "Passwordless link sent",
	"cs":                       "Passwordless code sent",
	"sens":                     "Passwordless email sent",
	"w":                        "Warning during login",
	"mfar":                     "MFA required",
	"gd_auth_succeed":          "MFA succeeded",
	"gd_auth_failed":           "MFA failed",
	"gd_auth_rejected":         "MFA push rejected",
	"gd_enrollment_complete":   "MFA enrolment completed",
	"gd_otp_rate_limit_exceed": "Too many MFA codes entered",
	"gd_recovery_failed":       "MFA recovery code failed",
	"gd_recovery_succeed":      "MFA recovery code used",
	"gd_send_sms":              "MFA SMS sent",
	"gd_send_sms_failure":      "MFA SMS could not be sent",
	"gd_send_email":            "MFA email sent",
	"gd_unenroll":              "MFA factor removed",
	"gd_update_device_account": "MFA device updated",
	"ublk":                     "User unblocked",
	"depnote":                  "Deprecation notice",
}

// LogTypeText is the sentence for an Auth0 log event type code; an unknown code is shown as itself
// ("Event <code>"), so nothing is hidden.
func LogTypeText(code string) string {
	if s, ok := logTypes[code]; ok {
		return s
	}
	if code == "" {
		return "Event"
	}
	return "Event " + code
}

// failureTypes are the codes that mean a sign-in attempt of this user failed.
var failureTypes = map[string]bool{
	"f": true, "fp": true, "fu": true, "fc": true, "fcoa": true, "limit_wc": true, "limit_mu": true, "limit_sul": true,
	"gd_auth_failed": true, "gd_auth_rejected": true, "gd_otp_rate_limit_exceed": true, "gd_recovery_failed": true,
	"pwd_leak": true,
}

// IsSignInFailure reports whether a log event type code records a failed sign-in.
func IsSignInFailure(code string) bool { return failureTypes[code] }
