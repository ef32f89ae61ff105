"""The privacy policy's versions, rendering and notice periods."""
