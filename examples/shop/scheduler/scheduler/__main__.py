from scheduler.app import main

raise SystemExit(main())
