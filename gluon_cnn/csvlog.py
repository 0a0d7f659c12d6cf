"""CSV logs a run writes (metrics.csv, iterations.csv) and every tool reads: one neutral
module below training, plotting and analysis."""
import csv
import os


class CsvLog:
    """Append rows to a CSV file, writing the header when the file is new."""

    def __init__(self, path, columns):
        self.path, self.columns = path, columns
        if not os.path.exists(path):
            with open(path, "w", newline="") as handle:
                csv.writer(handle).writerow(columns)

    def append(self, **row):
        with open(self.path, "a", newline="") as handle:
            csv.writer(handle).writerow([_format(row[name]) for name in self.columns])

    def truncate_after(self, column, last):
        """Drop rows whose ``column`` exceeds ``last`` (rows logged after the checkpoint a
        resumed run starts from)."""
        rows = read_csv(self.path)
        with open(self.path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.columns)
            for row in rows:
                if float(row[column]) <= last:
                    # a column added since the rows were written is left empty in them
                    writer.writerow([row.get(name) or "" for name in self.columns])


class NullLog:
    """Stands in for a CsvLog where nothing is written (workers other than rank 0)."""

    def append(self, **row):
        pass

    def truncate_after(self, column, last):
        pass


def _format(value):
    return "%.6g" % value if isinstance(value, float) else value


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path, rows):
    """Write a list of dicts (the keys of the first are the header; an empty list, a
    one-column header "none")."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["none"])
        writer.writeheader()
        writer.writerows(rows)
