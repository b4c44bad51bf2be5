-- Which node opened an attendance interval (issue 18). A room lives on one
-- node; when that node stops it closes its own open intervals, and when it
-- dies a live node closes them: by node, never another node's. Intervals
-- from before this migration have none ('') and are closed at the next start.
ALTER TABLE room_attendance ADD COLUMN node TEXT NOT NULL DEFAULT '';

CREATE INDEX room_attendance_node_open ON room_attendance (left_at, node);
