// Post-processing logic (pure): NMS across classified detection sets, false-positive features, keep rule, submission rows.
// Its public surface arrives with the issue that builds it.
export {};
