-- The evaluator picks up alerts other replicas created since its last look
-- (LiveAlertsSince) every poll: an index keeps that a short range scan.
CREATE INDEX alerts_created ON alerts (created_at);
