"""Start a distributed (parameter-server) job on this machine or on hosts over ssh:
python scripts/launch.py -n 2 -s 1 -- python scripts/train.py --kvstore dist_sync ..."""
import argparse

from ..distributed import launch
from ..errors import UserError
from ..training.devices import contexts_from_flag
from . import new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("-n", "--num-workers", type=int, default=2, help="worker processes")
    parser.add_argument("-s", "--num-servers", type=int, default=1, help="server processes")
    parser.add_argument("--hosts", default=None,
                        help="file with one host a line: servers and workers start there over ssh")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address the scheduler (and local processes) listen on")
    parser.add_argument("--timeout", type=int, default=None, help="stop the job after N seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- then the command every process runs")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.timeout is not None and args.timeout <= 0:
        raise UserError("--timeout must be a positive number of seconds; got %d." % args.timeout)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not args.hosts:  # the workers start here: their GPUs can be checked before they do
        contexts_from_flag(*(flag_value(command, flag) for flag in ("--gpus", "--ctx")))
    return launch(command, args.num_workers, args.num_servers, args.host, args.hosts,
                  args.timeout)


def flag_value(command, flag):
    """The value of ``flag`` in the workers' command line ("--gpus 0" or "--gpus=0"), or ""."""
    for index, part in enumerate(command):
        if part == flag and index + 1 < len(command):
            return command[index + 1]
        if part.startswith(flag + "="):
            return part[len(flag) + 1:]
    return ""
