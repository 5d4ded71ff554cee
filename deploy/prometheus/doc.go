// Package prometheus holds the Prometheus side of the deployment:
// prometheus.yml (the `cryptobot` scrape job), alerts.yml and its promtool
// unit tests in alerts_test.yml. Its Go tests validate all three with the
// promtool of Prometheus 3, the major version the compose stack runs
// (promcheck.Version; .ci/run builds it), and check every alert's labels,
// annotations and metric selectors.
package prometheus
