//go:build tools

// The h2spec conformance tester (github.com/summerwind/h2spec, MIT), pinned by this module's
// go.mod / go.sum and built by build.sh for test/protocols/h2spec.test.ts.
package tools

import _ "github.com/summerwind/h2spec/cmd/h2spec"
