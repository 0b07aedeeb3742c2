"""Pages of the competency model: versions (read by everyone signed in), the editor and model
file imports (admins)."""
