// Package views holds the console's templ components. Each is a pure function of a view-model
// struct declared in models.go; no component sees an Auth0 API type or reads the request.
package views
