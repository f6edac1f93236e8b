"""What campaigns earned: attribution, holdout groups, uplift and the outcome read model."""
