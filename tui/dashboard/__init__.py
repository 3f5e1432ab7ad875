"""The Textual dashboard (`amlocal ui`): pipelines → runs → run detail, updated live."""
