package tenant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// LocalTLS creates a throw-away certificate authority and a server certificate it signs for
// 127.0.0.1, ::1 and localhost, writes the CA certificate (PEM, mode 0644) to caFile, and returns a
// server TLS configuration. The official Auth0 SDKs insist on https://{domain}; pointing one at the
// tenant means trusting caFile (e.g. SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE).
//
// The CA's private key never leaves memory, so a new CA is made on every start and the file is
// replaced: clients re-read it after a restart. That keeps a reusable signing key off the disk.
func LocalTLS(caFile string, now time.Time) (*tls.Config, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tenant tls: %w", err)
	}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(397*24*time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Userdesk local tenant CA", Organization: []string{"Userdesk"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tenant tls: CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("tenant tls: CA: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tenant tls: %w", err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tenant tls: server certificate: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(caFile), 0o700); err != nil {
		return nil, fmt.Errorf("tenant tls: %w", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	// Write then rename, so a client never reads a half-written file.
	tmp := caFile + ".tmp"
	if err := os.WriteFile(tmp, caPEM, 0o644); err != nil {
		return nil, fmt.Errorf("tenant tls: write CA: %w", err)
	}
	if err := os.Rename(tmp, caFile); err != nil {
		return nil, fmt.Errorf("tenant tls: write CA: %w", err)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{
			Certificate: [][]byte{leafDER, caDER},
			PrivateKey:  leafKey,
		}},
	}, nil
}

// serial is a random 128-bit certificate serial number.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) // never fails (Go 1.24+)
	return n.Add(n, big.NewInt(1))
}
