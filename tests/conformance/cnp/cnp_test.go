// The ClusterNetworkPolicy conformance suite of sigs.k8s.io/network-policy-api
// (its conformance/tests, run by its conformance/utils/suite) against the
// cluster of $KUBECONFIG, with the suite's base manifests taken from ./base,
// which tests/lab/build-tools.sh fills from the module at build time: the
// module's own conformance/base with the containers that serve SCTP left out
// of the base StatefulSets, because this lab's kernel has no SCTP (agnhost
// porter exits when socket(..., IPPROTO_SCTP) fails, so no replica would
// ever become Ready and the suite's setup would fail before any test).
// -skip-tests REGEXP reports the tests it matches as skipped with
// -skip-reason (tests/conformance/run: the SCTP ones). A test tool built
// with `go test -c` in a wrapper module, not product code.
package cnp

import (
	"embed"
	"flag"
	"regexp"
	"testing"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	api "sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/network-policy-api/conformance/tests"
	"sigs.k8s.io/network-policy-api/conformance/utils/flags"
	"sigs.k8s.io/network-policy-api/conformance/utils/suite"
)

//go:embed base
var manifests embed.FS

var (
	skipTests  = flag.String("skip-tests", "", "regexp: ShortNames of the tests reported as skipped")
	skipReason = flag.String("skip-reason", "", "why -skip-tests skips them")
)

func TestConformance(t *testing.T) {
	var run, skip []suite.ConformanceTest

	re, err := regexp.Compile(*skipTests)
	if err != nil {
		t.Fatalf("-skip-tests: %v", err)
	}
	for _, ct := range tests.ConformanceTests {
		if *skipTests != "" && re.MatchString(ct.ShortName) {
			skip = append(skip, ct)
		} else {
			run = append(run, ct)
		}
	}
	cfg, err := config.GetConfig()
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("clientset: %v", err)
	}
	if err := api.Install(c.Scheme()); err != nil {
		t.Fatalf("scheme: %v", err)
	}
	s := suite.New(suite.Options{
		Client:                     c,
		ClientSet:                  cs,
		KubeConfig:                 *cfg,
		Debug:                      *flags.ShowDebug,
		CleanupBaseResources:       *flags.CleanupBaseResources,
		SupportedFeatures:          suite.ParseSupportedFeatures(*flags.SupportedFeatures),
		ExemptFeatures:             suite.ParseSupportedFeatures(*flags.ExemptFeatures),
		EnableAllSupportedFeatures: *flags.EnableAllSupportedFeatures,
		FS:                         &manifests,
	})
	s.Setup(t)
	for _, ct := range skip {
		t.Run(ct.ShortName, func(t *testing.T) { t.Skip(*skipReason) })
	}
	s.Run(t, run)
}
