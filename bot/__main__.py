from bot.cli import main

if __name__ == "__main__":  # not when imported (a spawned process imports __main__ again)
    raise SystemExit(main())
