"""What-if: replay logged decisions under proposed caps, rules or pools."""
