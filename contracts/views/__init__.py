"""Staff screens of contracts: one module per area; views call services and selectors, and hold no rule."""
