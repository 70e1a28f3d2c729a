// Package users is the support console's user service: search, create and metadata editing on top
// of the Auth0 Management API, with every failure turned into a sentence a staff member can act on.
package users
