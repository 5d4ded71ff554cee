// Package prometheus holds the Prometheus side of the deployment:
// prometheus.yml (the `cryptobot` scrape job), alerts.yml and its promtool
// unit tests in alerts_test.yml. Its Go tests validate all three with promtool
// and check every alert's labels, annotations and metric selectors.
package prometheus
