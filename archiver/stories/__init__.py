"""Stories: text fingerprints, the rule for copies of one text, and the rule for their origin."""
