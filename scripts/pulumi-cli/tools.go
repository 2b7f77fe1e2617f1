//go:build tools

// Package tools pins the Pulumi CLI and the Node.js language host so that
// scripts/setup.sh can build them from the Go module proxy. A wrapper module is
// needed because `go install pkg@version` refuses modules with replace directives.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
